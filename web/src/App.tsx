// The portal's pages and who may see them.
import { useEffect, type ReactNode } from 'react';
import { AccountLayout, Frame } from './components/Layout';
import { ActivityPage } from './pages/Activity';
import { ApiDocPage } from './pages/ApiDoc';
import { LoginPage, SignupPage } from './pages/Auth';
import { CreateApiPage, EditApiPage } from './pages/KeyForm';
import { DashboardPage } from './pages/Dashboard';
import { MyApiPage } from './pages/MyApi';
import { SecurityPage } from './pages/Security';
import { Link, navigate, usePath } from './router';
import { useSession } from './session';

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/** Pages of the account area: the login page first when there is no session. */
function SignedIn({ path, children }: { path: string; children: ReactNode }) {
  const { me } = useSession();
  if (!me) return <Redirect to={`/login?next=${encodeURIComponent(path)}`} />;
  return <>{children}</>;
}

function Title({ title, children }: { title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} | Keygate`;
  }, [title]);
  return <>{children}</>;
}

function NotFound() {
  return (
    <main className="centered-page" id="main">
      <h1>Page not found</h1>
      <p className="muted">There is no page at this address.</p>
      <Link to="/" className="button primary">
        Go to Keygate
      </Link>
    </main>
  );
}

function Page({ path }: { path: string }) {
  const { me } = useSession();
  const edit = /^\/my-api\/edit\/([^/]+)$/.exec(path);
  if (path === '/' || path === '') return <Redirect to={me ? '/dashboard' : '/login'} />;
  if (path === '/login') return me ? <Redirect to="/dashboard" /> : <Title title="Log In"><LoginPage /></Title>;
  if (path === '/signup') return me ? <Redirect to="/dashboard" /> : <Title title="Sign Up"><SignupPage /></Title>;
  if (path === '/api-doc') {
    const doc = <Title title="API Doc"><ApiDocPage /></Title>;
    return me ? <AccountLayout>{doc}</AccountLayout> : <main id="main" className="plain-page">{doc}</main>;
  }
  const account: Record<string, [string, () => ReactNode]> = {
    '/dashboard': ['Dashboard', () => <DashboardPage />],
    '/security': ['Security', () => <SecurityPage />],
    '/my-api': ['My API', () => <MyApiPage />],
    '/activity': ['Activity', () => <ActivityPage />],
  };
  const entry = account[path];
  if (entry) {
    return (
      <SignedIn path={path}>
        <Title title={entry[0]}>
          <AccountLayout>{entry[1]()}</AccountLayout>
        </Title>
      </SignedIn>
    );
  }
  if (path === '/my-api/create') {
    return (
      <SignedIn path={path}>
        <Title title="Create New API">
          <CreateApiPage />
        </Title>
      </SignedIn>
    );
  }
  if (edit?.[1]) {
    return (
      <SignedIn path={path}>
        <Title title="Edit API">
          <EditApiPage apiKey={decodeURIComponent(edit[1])} />
        </Title>
      </SignedIn>
    );
  }
  return <Title title="Page not found"><NotFound /></Title>;
}

export function App() {
  const path = usePath();
  const { loading } = useSession();
  return (
    <Frame>
      {loading ? (
        <main className="centered-page" id="main" aria-busy="true">
          <p className="muted">Loading…</p>
        </main>
      ) : (
        <Page path={path.replace(/\/+$/, '') || '/'} />
      )}
    </Frame>
  );
}
