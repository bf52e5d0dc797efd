import { apiClient, unwrap } from '../api/client';
import { BeforeAfter } from '../components/before-after';
import { Empty, Loaded } from '../components/status';
import { useAsync } from '../state/use-async';

/** Before/after examples, public: shown to visitors before they sign up. */
export function Gallery({ headingLevel = 1 }: { headingLevel?: 1 | 2 }) {
  const gallery = useAsync(async () => unwrap(await apiClient(null).GET('/api/v1/gallery/all'), 'loading the gallery'), []);
  const Heading = headingLevel === 1 ? 'h1' : 'h2';
  return (
    <section aria-labelledby="gallery-title">
      <Heading id="gallery-title">Examples</Heading>
      <Loaded state={gallery} what="the examples">
        {(list) =>
          list.items.length === 0 ? (
            <Empty>No examples yet.</Empty>
          ) : (
            <ul className="gallery" id="gallery">
              {list.items.map((item) => (
                <li key={item.id}>
                  <BeforeAfter before={item.original_url} after={item.processed_url} name={item.title} aspect={1} />
                  <h3>{item.title}</h3>
                  <p className="muted">
                    {item.pipeline}
                    {item.description ? `: ${item.description}` : ''}
                  </p>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}

export function GalleryScreen() {
  return (
    <main>
      <Gallery />
    </main>
  );
}
