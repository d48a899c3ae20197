// The frame of every page: the top bar with the profile menu (screen 1), the account pages' left
// navigation (screen 2), and a short footer.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { api } from '../api';
import { Link, navigate, usePath } from '../router';
import { useSession } from '../session';
import { CopyButton } from './CopyButton';
import { ActivityIcon, ApiIcon, Avatar, DashboardIcon, DocIcon, LogOutIcon, ShieldIcon } from './icons';

export function Logo() {
  return (
    <Link to="/" className="logo" aria-label="Keygate home">
      <span aria-hidden="true">
        K<span className="logo-accent">E</span>YGATE
      </span>
    </Link>
  );
}

export async function logOut(signedOut: () => void): Promise<void> {
  try {
    await api.logout();
  } catch {
    // The session may already be gone; either way the person is signed out here.
  }
  signedOut();
  navigate('/login', { replace: true });
}

function ProfileMenu() {
  const { me, signedOut } = useSession();
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    const first = menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]');
    first?.focus();
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  if (!me) return null;

  const close = (focusButton: boolean) => {
    setOpen(false);
    if (focusButton) buttonRef.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const index = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === 'Escape') {
      event.preventDefault();
      close(true);
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      items[(index + 1) % items.length]?.focus();
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      items[(index - 1 + items.length) % items.length]?.focus();
    } else if (event.key === 'Home') {
      event.preventDefault();
      items[0]?.focus();
    } else if (event.key === 'End') {
      event.preventDefault();
      items[items.length - 1]?.focus();
    } else if (event.key === 'Tab') {
      setOpen(false);
    }
  };

  const go = (to: string) => {
    close(false);
    navigate(to);
  };

  return (
    <div className="profile">
      <button
        ref={buttonRef}
        type="button"
        className="avatar-button"
        aria-label="Profile"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((value) => !value)}
      >
        <Avatar />
      </button>
      {open && (
        <div className="profile-menu" id={menuId} ref={menuRef} onKeyDown={onKeyDown}>
          <div className="profile-card">
            <Avatar size={44} />
            <div>
              <div className="profile-email">{me.email}</div>
              <div className="profile-uid">
                UID: <span>{me.uid}</span>
                <CopyButton text={me.uid} label="Copy UID" />
              </div>
            </div>
          </div>
          <div role="menu" aria-label="Account">
            <MenuItem icon={<DashboardIcon />} label="Dashboard" onSelect={() => go('/dashboard')} />
            <MenuItem icon={<ShieldIcon />} label="Security" onSelect={() => go('/security')} />
            <MenuItem icon={<ApiIcon />} label="My API" onSelect={() => go('/my-api')} />
            <MenuItem icon={<ActivityIcon />} label="Activity" onSelect={() => go('/activity')} />
            <div className="menu-separator" role="separator" />
            <MenuItem
              icon={<LogOutIcon />}
              label="Log Out"
              onSelect={() => {
                close(false);
                void logOut(signedOut);
              }}
            />
          </div>
        </div>
      )}
    </div>
  );
}

function MenuItem({ icon, label, onSelect }: { icon: ReactNode; label: string; onSelect: () => void }) {
  return (
    <button type="button" role="menuitem" tabIndex={-1} className="menu-item" onClick={onSelect}>
      {icon}
      <span>{label}</span>
    </button>
  );
}

export function TopBar() {
  const { me } = useSession();
  return (
    <header className="topbar">
      <Logo />
      <nav className="topbar-links" aria-label="Site">
        <Link to="/api-doc">API Doc</Link>
      </nav>
      <div className="topbar-right">
        {me ? (
          <ProfileMenu />
        ) : (
          <>
            <Link to="/login" className="button ghost small">
              Log In
            </Link>
            <Link to="/signup" className="button primary small">
              Sign Up
            </Link>
          </>
        )}
      </div>
    </header>
  );
}

const NAV: { to: string; label: string; icon: ReactNode }[] = [
  { to: '/dashboard', label: 'Dashboard', icon: <DashboardIcon /> },
  { to: '/security', label: 'Security', icon: <ShieldIcon /> },
  { to: '/my-api', label: 'My API', icon: <ApiIcon /> },
  { to: '/activity', label: 'Activity', icon: <ActivityIcon /> },
  { to: '/api-doc', label: 'API Doc', icon: <DocIcon /> },
];

function SideNav() {
  const path = usePath();
  return (
    <nav className="sidenav" aria-label="Account">
      {NAV.map((item) => (
        <Link key={item.to} to={item.to} className={path === item.to ? 'active' : undefined} aria-current={path === item.to ? 'page' : undefined}>
          {item.icon}
          <span>{item.label}</span>
        </Link>
      ))}
    </nav>
  );
}

function Footer() {
  return (
    <footer className="footer">
      <span>Keygate</span>
      <span>Self-hosted API keys, wire-compatible with LBank's v2 API.</span>
      <Link to="/api-doc">API Doc</Link>
    </footer>
  );
}

/** A page of the account area: side navigation on the left, content on the right. */
export function AccountLayout({ children }: { children: ReactNode }) {
  return (
    <div className="account-layout">
      <SideNav />
      <main className="account-main" id="main">
        {children}
      </main>
    </div>
  );
}

export function Frame({ children }: { children: ReactNode }) {
  return (
    <div className="frame">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <TopBar />
      <div className="frame-body">{children}</div>
      <Footer />
    </div>
  );
}
