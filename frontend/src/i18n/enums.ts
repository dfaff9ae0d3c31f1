// Labels for the API's enumerations. Each map is typed against the enum in
// the generated schema, so a value the API adds without a label here is a
// compile error, and each label is a translation key.
import type { components } from "../api/schema";
import type { MessageKey } from "./i18n";

type S = components["schemas"];

export type DocumentKind = S["DocumentMetadata"]["kind"];
export type Classification = S["DocumentMetadata"]["classification"];
export type AgencyKind = S["Me"]["agency"]["kind"];
export type Role = S["Me"]["roles"][number];

export const documentKindLabels = {
  passport: "enum.documentKind.passport",
  identity_document: "enum.documentKind.identity_document",
  visa: "enum.documentKind.visa",
  work_permit: "enum.documentKind.work_permit",
  residence_permit: "enum.documentKind.residence_permit",
  court_order: "enum.documentKind.court_order",
  judgment: "enum.documentKind.judgment",
  indictment: "enum.documentKind.indictment",
  charge_sheet: "enum.documentKind.charge_sheet",
  deportation_order: "enum.documentKind.deportation_order",
  statement: "enum.documentKind.statement",
  evidence: "enum.documentKind.evidence",
  photo: "enum.documentKind.photo",
  medical_report: "enum.documentKind.medical_report",
  police_report: "enum.documentKind.police_report",
  correspondence: "enum.documentKind.correspondence",
  consular_note: "enum.documentKind.consular_note",
  other: "enum.documentKind.other",
} as const satisfies Record<DocumentKind, MessageKey>;

export const classificationLabels = {
  public: "enum.classification.public",
  restricted: "enum.classification.restricted",
  confidential: "enum.classification.confidential",
  secret: "enum.classification.secret",
} as const satisfies Record<Classification, MessageKey>;

export const agencyKindLabels = {
  immigration_police: "enum.agencyKind.immigration_police",
  counter_trafficking: "enum.agencyKind.counter_trafficking",
  embassy: "enum.agencyKind.embassy",
  interior_ministry: "enum.agencyKind.interior_ministry",
  court: "enum.agencyKind.court",
} as const satisfies Record<AgencyKind, MessageKey>;

export const roleLabels = {
  viewer: "enum.role.viewer",
  officer: "enum.role.officer",
  supervisor: "enum.role.supervisor",
  admin: "enum.role.admin",
  liaison: "enum.role.liaison",
  coordinator: "enum.role.coordinator",
  clerk: "enum.role.clerk",
} as const satisfies Record<Role, MessageKey>;

/** The values of a label map, in its order. */
export function valuesOf<K extends string>(labels: Record<K, MessageKey>): K[] {
  return Object.keys(labels) as K[];
}

/** The label of an enum value; a value the map lacks (a newer server) shows as is. */
export function labelOf<K extends string>(
  t: (k: MessageKey) => string,
  labels: Record<K, MessageKey>,
  value: string | null | undefined,
): string {
  if (value === null || value === undefined || value === "") return "—";
  const key = (labels as Record<string, MessageKey>)[value];
  return key ? t(key) : value;
}
