// The screen table: every page of the app, the capability it needs and
// where it sits in the navigation. Adding a screen is adding a row here
// (and its component under src/screens/, loaded on demand, so each screen's
// code reaches only the users who open it).
import type { ComponentType } from "react";
import type { MessageKey } from "../i18n/i18n";
import type { Capability } from "./session";

export interface ScreenDef {
  /** Route path below "/" (react-router syntax). */
  path: string;
  /** What the user must be able to do to see this screen; null: anyone signed in. */
  capability: Capability | null;
  /** A navigation entry, in this order, for users with the capability. */
  nav?: MessageKey;
  load: () => Promise<ComponentType>;
}

export const screens: ScreenDef[] = [
  // Court clerks land on the cases before their court and their bundles.
  {
    path: "court/cases",
    capability: "court.cases",
    nav: "nav.courtCases",
    load: () => import("../bundles/ClerkHome").then((m) => m.ClerkHome),
  },
  // Consular liaisons come first to their nationals.
  {
    path: "consular/nationals",
    capability: "consular.read",
    nav: "nav.nationals",
    load: () => import("../screens/Nationals").then((m) => m.Nationals),
  },
  {
    path: "consular/nationals/:personId",
    capability: "consular.read",
    load: () => import("../screens/National").then((m) => m.National),
  },
  // Counter-trafficking: cases with possible victims.
  {
    path: "victims",
    capability: "cases.victims",
    nav: "nav.victims",
    load: () => import("../screens/Victims").then((m) => m.Victims),
  },
  {
    path: "cases",
    capability: "cases.read",
    nav: "nav.cases",
    load: () => import("../screens/CaseList").then((m) => m.CaseList),
  },
  {
    path: "notifications",
    capability: "notifications.read",
    nav: "nav.notifications",
    load: () => import("../screens/Notifications").then((m) => m.Notifications),
  },
  {
    path: "oversight/overdue",
    capability: "oversight.read",
    nav: "nav.overdue",
    load: () => import("../screens/Overdue").then((m) => m.Overdue),
  },
  {
    path: "oversight/dashboard",
    capability: "stats.read",
    nav: "nav.dashboard",
    load: () => import("../screens/Dashboard").then((m) => m.Dashboard),
  },
  {
    path: "cases/:caseId/import",
    capability: "cases.create",
    load: () => import("../screens/ImportWizard").then((m) => m.ImportWizard),
  },
  {
    path: "cases/new",
    capability: "cases.create",
    nav: "nav.newCase",
    load: () => import("../screens/CaseForm").then((m) => m.NewCase),
  },
  {
    path: "cases/:caseId",
    capability: "cases.read",
    load: () => import("../screens/CasePage").then((m) => m.CasePage),
  },
  {
    path: "cases/:caseId/edit",
    capability: "cases.create",
    load: () => import("../screens/CaseForm").then((m) => m.EditCase),
  },
  {
    path: "cases/:caseId/persons/new",
    capability: "cases.create",
    load: () => import("../screens/PersonForm").then((m) => m.NewPerson),
  },
  {
    path: "persons/:personId",
    capability: null,
    load: () => import("../screens/PersonPage").then((m) => m.PersonPage),
  },
  {
    path: "persons/:personId/edit",
    capability: "cases.create",
    load: () => import("../screens/PersonForm").then((m) => m.EditPerson),
  },
  {
    path: "admin/agencies",
    capability: "admin.manage",
    nav: "nav.agencies",
    load: () => import("../screens/Agencies").then((m) => m.Agencies),
  },
  {
    path: "admin/webhooks",
    capability: "admin.manage",
    nav: "nav.webhooks",
    load: () => import("../consular/Webhooks").then((m) => m.Webhooks),
  },
  {
    path: "admin/users",
    capability: "admin.manage",
    nav: "nav.users",
    load: () => import("../screens/Users").then((m) => m.Users),
  },
  {
    path: "admin/audit",
    capability: "admin.manage",
    nav: "nav.audit",
    load: () => import("../screens/Audit").then((m) => m.Audit),
  },
];
