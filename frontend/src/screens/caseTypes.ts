// The case file's types and labels, derived from the generated schema.
import type { ResponseOf } from "../api/types";
import type { MessageKey } from "../i18n/i18n";

export type Case = ResponseOf<"/api/v1/cases/{id}", "get">;
export type CaseSummary = ResponseOf<"/api/v1/cases", "get">["items"][number];
export type CaseKind = Case["kind"];
export type CaseStatus = Case["status"];

export const caseKindLabels = {
  illegal_entry: "enum.caseKind.illegal_entry",
  illegal_work: "enum.caseKind.illegal_work",
  smuggling: "enum.caseKind.smuggling",
  trafficking: "enum.caseKind.trafficking",
  document_fraud: "enum.caseKind.document_fraud",
} as const satisfies Record<CaseKind, MessageKey>;

export const caseStatusLabels = {
  open: "enum.caseStatus.open",
  investigation: "enum.caseStatus.investigation",
  before_court: "enum.caseStatus.before_court",
  adjudicated: "enum.caseStatus.adjudicated",
  closed: "enum.caseStatus.closed",
} as const satisfies Record<CaseStatus, MessageKey>;

/** The full projection's fields when the user's grant is full, else null. */
export function fullOf(c: Case) {
  return "summary" in c ? c : null;
}

/**
 * The statuses a case may move to next, as the server's case rules state
 * them (docs/cases.md); offered so the form has no dead choices. The
 * server decides: a refused change comes back as a problem.
 */
export const nextStatuses: Record<CaseStatus, CaseStatus[]> = {
  open: ["investigation", "closed"],
  investigation: ["before_court", "closed"],
  before_court: ["adjudicated", "investigation", "before_court"],
  adjudicated: ["closed"],
  closed: [],
};
