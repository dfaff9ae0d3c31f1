// Who is signed in (GET /api/v1/me) and what they may do. The app shows
// only what the principal's agency kind and roles allow (spec/ACCESS.md);
// the API decides in the end, and what it returns narrows it further.
import { createContext, useContext, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, setCsrfToken, unwrap } from "../api/client";
import type { paths } from "../api/schema";
import { useI18n } from "../i18n/i18n";
import { ErrorMessage } from "../components/ErrorMessage";

export type Me = paths["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"];

/** What the app offers a user; screens and actions are keyed by these. */
export type Capability =
  | "cases.read" // a case list: own, shared, victim, oversight or court cases
  | "cases.create" // open a case file for one's own agency
  | "cases.victims" // counter-trafficking duty: cases with possible victims
  | "persons.screen" // record trafficking screening
  | "consular.read" // an embassy's detained nationals
  | "notifications.read" // consular notifications: an embassy's inbox, or all of them for the ministry
  | "oversight.read" // the ministry's overdue notifications and visit requests
  | "court.cases" // a court clerk's cases before their court, with the bundles
  | "stats.read" // the oversight figures: coordinators and admins
  | "admin.manage"; // agencies and users

const caseRoles = ["viewer", "officer", "supervisor"];

export function capabilitiesOf(me: Me): Set<Capability> {
  const roles = new Set<string>(me.roles);
  const kind = me.agency.kind;
  const has = (...r: string[]) => r.some((x) => roles.has(x));
  const caps = new Set<Capability>();
  if (has(...caseRoles, "coordinator", "clerk", "liaison")) caps.add("cases.read");
  if ((kind === "immigration_police" || kind === "counter_trafficking") && has("officer", "supervisor")) {
    caps.add("cases.create");
  }
  if (kind === "counter_trafficking" && has(...caseRoles)) caps.add("cases.victims");
  if (kind === "counter_trafficking" && has("officer", "supervisor")) caps.add("persons.screen");
  if (kind === "embassy" && has("liaison")) caps.add("consular.read");
  if ((kind === "embassy" && has("liaison")) || (kind === "interior_ministry" && has("coordinator"))) {
    caps.add("notifications.read");
  }
  if (kind === "interior_ministry" && has("coordinator")) caps.add("oversight.read");
  if (kind === "court" && has("clerk")) caps.add("court.cases");
  if ((kind === "interior_ministry" && has("coordinator")) || has("admin")) caps.add("stats.read");
  if (has("admin")) caps.add("admin.manage");
  return caps;
}

export interface Session {
  me: Me;
  caps: Set<Capability>;
  can: (c: Capability) => boolean;
  hasRole: (...roles: string[]) => boolean;
  /** The signed-in user belongs to the agency with this id. */
  isOwnAgency: (agencyId: string | null | undefined) => boolean;
}

const SessionContext = createContext<Session | null>(null);

/** GET /api/v1/me, remembering the CSRF token for later writes. */
export async function fetchMe(): Promise<Me> {
  const me = await unwrap(api.GET("/api/v1/me"));
  setCsrfToken(me.csrf_token ?? "");
  return me;
}

/** The session query's options: App starts it before the first screen's code arrives. */
export const meQuery = { queryKey: ["me"], queryFn: fetchMe, staleTime: 5 * 60_000, retry: false } as const;

export function SessionProvider({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const q = useQuery(meQuery);
  if (q.isPending) {
    return (
      <p className="spinner" role="status">
        {t("common.loading")}
      </p>
    );
  }
  if (q.isError) {
    return (
      <main>
        <ErrorMessage error={q.error} />
      </main>
    );
  }
  const me = q.data;
  const caps = capabilitiesOf(me);
  const roles = new Set<string>(me.roles);
  const session: Session = {
    me,
    caps,
    can: (c) => caps.has(c),
    hasRole: (...r) => r.some((x) => roles.has(x)),
    isOwnAgency: (id) => !!id && id === me.agency.id,
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
