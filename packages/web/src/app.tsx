import type { ReactNode } from 'react';
import { Header } from './components/header';
import { CatalogProvider } from './state/catalog';
import { match, RouterProvider, useLocation } from './state/router';
import { SessionProvider, useSession } from './state/session';
import { AccountScreen } from './screens/account';
import { BuyScreen } from './screens/buy';
import { CheckoutReturnScreen } from './screens/checkout-return';
import { ChoosePasswordScreen } from './screens/choose-password';
import { ChooseScreen } from './screens/choose';
import { ConfirmEmailScreen } from './screens/confirm-email';
import { DevelopersScreen } from './screens/developers';
import { ForgotPasswordScreen } from './screens/forgot-password';
import { GalleryScreen } from './screens/gallery';
import { GoodbyeScreen } from './screens/goodbye';
import { HistoryScreen } from './screens/history';
import { JobScreen } from './screens/job';
import { LandingScreen } from './screens/landing';
import { ResetPasswordScreen } from './screens/reset-password';
import { ReviewScreen } from './screens/review';
import { SignInScreen } from './screens/sign-in';
import { SignUpScreen } from './screens/sign-up';
import { UploadScreen } from './screens/upload';
import { VerifyEmailScreen } from './screens/verify-email';
import { VerifyBanner } from './components/verify-notice';

/** The screen for the current path; the gateway serves this app for each of these paths. */
function Screen(): ReactNode {
  const { path, query } = useLocation();
  const { session } = useSession();
  if (path === '/gallery') return <GalleryScreen />;
  // The links of our mails work signed in or not (a mail is often opened on another device).
  if (path === '/verify-email') return <VerifyEmailScreen />;
  if (path === '/confirm-email') return <ConfirmEmailScreen />;
  if (path === '/reset-password') return <ResetPasswordScreen />;
  if (path === '/forgot-password') return <ForgotPasswordScreen />;
  if (path === '/goodbye') return <GoodbyeScreen />;
  if (!session) {
    if (path === '/signup') return <SignUpScreen />;
    if (path === '/' && !query.has('checkout')) return <LandingScreen />;
    return <SignInScreen />;
  }
  // A seller who signed in with an old access code chooses a password before anything else.
  if (session.passwordRequired) return <ChoosePasswordScreen />;
  // Stripe sends the buyer back to /?checkout=success&session_id=... (billing's success_url).
  const checkoutSession = query.get('session_id');
  if (path === '/' && query.get('checkout') === 'success' && checkoutSession) return <CheckoutReturnScreen sessionId={checkoutSession} />;
  if (path === '/' && query.get('checkout') === 'cancelled') return <BuyScreen />;
  if (path === '/' || path === '/upload' || path === '/signin' || path === '/signup') return <UploadScreen />;
  if (path === '/history') return <HistoryScreen />;
  if (path === '/buy') return <BuyScreen />;
  if (path === '/developers') return <DevelopersScreen />;
  if (path === '/account') return <AccountScreen />;
  if (path === '/choose-password') return <ChoosePasswordScreen />;
  const choose = match('/jobs/:jobId/choose', path);
  if (choose) return <ChooseScreen jobId={choose.jobId!} />;
  const review = match('/jobs/:jobId/pictures/:imageId', path);
  if (review) return <ReviewScreen jobId={review.jobId!} imageId={review.imageId!} />;
  const job = match('/jobs/:jobId', path);
  if (job) return <JobScreen key={job.jobId} jobId={job.jobId!} />;
  return (
    <main>
      <h1>Not found</h1>
      <p>There is no page at {path}.</p>
    </main>
  );
}

export function App() {
  return (
    <RouterProvider>
      <CatalogProvider>
        <SessionProvider>
          <Header />
          <VerifyBanner />
          <div id="content" tabIndex={-1}>
            <Screen />
          </div>
        </SessionProvider>
      </CatalogProvider>
    </RouterProvider>
  );
}
