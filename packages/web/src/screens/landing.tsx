import { credits } from '../components/format';
import { Link } from '../state/router';
import { useCatalog } from '../state/catalog';
import { Gallery } from './gallery';

/** What a visitor sees: what the service does, its price, examples, and the way in. */
export function LandingScreen() {
  const catalog = useCatalog();
  return (
    <main>
      <section className="hero">
        <h1>Product photos in, marketplace-ready pictures out</h1>
        <p>
          Upload your photos, pick a marketplace, and download pictures it accepts as they are: pure white background, the product centred at the right size, a
          shadow if you want one.
          {catalog.status === 'ready' && (
            <>
              {' '}
              {credits(catalog.data.credits_per_picture)} a delivered picture, for {catalog.data.pipelines.map((pipeline) => pipeline.id).join(', ')}.
            </>
          )}
        </p>
        <p className="actions">
          <Link to="/signup" className="button primary">
            Create an account
          </Link>
          <Link to="/signin" className="button">
            Sign in
          </Link>
        </p>
      </section>
      <Gallery headingLevel={2} />
    </main>
  );
}
