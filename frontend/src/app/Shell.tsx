// The frame around every screen: who is signed in, their agency, the
// navigation their capabilities give them, the language switch, sign-out.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link, NavLink, Navigate, Outlet, useLocation, useRouteError } from "react-router";
import { csrfHeaders } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { locales, useI18n, type Locale, type MessageKey } from "../i18n/i18n";
import { screens } from "./screens";
import { SessionProvider, useSession, type Capability } from "./session";
import { useTitle } from "./title";
import { useAgencyName } from "../components/agencyName";

const localeNames: Record<Locale, string> = { en: "English", km: "ខ្មែរ" };

function navEntries(can: (c: Capability) => boolean): { to: string; label: MessageKey }[] {
  return screens
    .filter((s) => s.nav && (s.capability === null || can(s.capability)))
    .map((s) => ({ to: `/${s.path}`, label: s.nav as MessageKey }));
}

function LanguageSwitch() {
  const { t, locale, setLocale } = useI18n();
  return (
    <label>
      <span className="visually-hidden">{t("shell.language")}</span>
      <select
        aria-label={t("shell.language")}
        value={locale}
        onChange={(e) => setLocale(e.target.value as Locale)}
      >
        {locales.map((l) => (
          <option key={l} value={l} lang={l}>
            {localeNames[l]}
          </option>
        ))}
      </select>
    </label>
  );
}

function SignOut() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const signOut = async () => {
    setBusy(true);
    let next = "/signed-out";
    try {
      // Asked for JSON, the server answers with where to go next: the
      // provider's end-session page when it has one.
      const res = await fetch("/auth/logout", {
        method: "POST",
        credentials: "same-origin",
        headers: { ...csrfHeaders(), Accept: "application/json" },
      });
      if (res.ok) {
        const body: unknown = await res.json();
        if (typeof body === "object" && body !== null && "logout_url" in body && typeof body.logout_url === "string") {
          next = body.logout_url;
        }
      }
    } finally {
      window.location.assign(next);
    }
  };
  return (
    <button type="button" onClick={() => void signOut()} disabled={busy}>
      {t("shell.signOut")}
    </button>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const agencyName = useAgencyName();
  const { me, can } = useSession();
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  // After a client-side navigation, move focus to the new page so keyboard
  // and screen-reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [location.pathname]);
  const entries = navEntries(can);
  return (
    <>
      <a className="skip-link" href="#main">
        {t("shell.skip")}
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link className="brand" to="/">
            CaseBridge
          </Link>
          {entries.length > 0 && (
            <nav className="mainnav" aria-label={t("shell.nav")}>
              <ul>
                {entries.map((e) => (
                  <li key={e.to}>
                    <NavLink to={e.to} end>
                      {t(e.label)}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <div className="whoami" data-testid="whoami">
            <span>
              <span className="visually-hidden">{t("shell.signedInAs")} </span>
              <strong>{me.user.name}</strong>
              {" · "}
              <span className="agency" title={me.agency.code}>
                {agencyName(me.agency)}
              </span>
            </span>
            <LanguageSwitch />
            <SignOut />
          </div>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function Layout() {
  return (
    <SessionProvider>
      <Shell>
        <Outlet />
      </Shell>
    </SessionProvider>
  );
}

/** Shows the screen only to users with the capability. */
export function Guard({ capability, children }: { capability: Capability | null; children: ReactNode }) {
  const { can } = useSession();
  const { t } = useI18n();
  if (capability !== null && !can(capability)) {
    return (
      <div className="alert" role="alert">
        <h1>{t("error.forbidden")}</h1>
        <p>{t("shell.notForYou")}</p>
        <p>
          <Link to="/">{t("shell.home")}</Link>
        </p>
      </div>
    );
  }
  return <>{children}</>;
}

/** "/": the first screen of the user's navigation. */
export function Home() {
  const { t } = useI18n();
  const { me, can } = useSession();
  useTitle(t("shell.home"));
  const first = navEntries(can)[0];
  if (first) return <Navigate to={first.to} replace />;
  return (
    <>
      <h1>{t("home.welcome", { name: me.user.name })}</h1>
      <p>{t("home.noRole")}</p>
    </>
  );
}

export function NotFound() {
  const { t } = useI18n();
  useTitle(t("error.pageNotFound"));
  return (
    <>
      <h1>{t("error.pageNotFound")}</h1>
      <p>
        <Link to="/">{t("shell.home")}</Link>
      </p>
    </>
  );
}

export function RouteError() {
  const error = useRouteError();
  const { t } = useI18n();
  return (
    <main id="main">
      <h1>{t("error.failed")}</h1>
      <ErrorMessage error={error} />
      <p>
        <a href="/">{t("shell.home")}</a>
      </p>
    </main>
  );
}
