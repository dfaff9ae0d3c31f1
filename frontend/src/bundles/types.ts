// Court bundles: the types of the bundle routes and their labels.
//
// The bundle routes' schemas are written to the bundle HTTP contract
// (issue 11, spec/API.md) while api/openapi.yaml does not have them yet;
// once the generated schema has `Bundle` and `Manifest`, these become
// aliases of components["schemas"][…] and the compiler shows any drift.
import type { MessageKey } from "../i18n/i18n";

export type BundleState = "draft" | "building" | "built" | "failed" | "sealed";
export type Numbering = "consecutive" | "per_section";

/** A document version placed in a bundle section, as the client sends it. */
export interface ItemRef {
  document_id: string;
  version: number;
}

export interface PageRange {
  first: number;
  last: number;
  first_label: string;
  last_label: string;
}

/** An item as the API returns it: the reference, what it is, and where it sits in the built PDF. */
export interface Item extends ItemRef {
  title?: string;
  media_type?: string;
  classification?: string;
  pages?: PageRange | null;
}

export interface Section {
  label: string;
  title: string;
  items: Item[];
}

export interface Bundle {
  id: string;
  case_id: string;
  case_reference: string;
  title: string;
  hearing_date: string | null;
  numbering: Numbering;
  state: BundleState;
  stale: boolean;
  progress: { percent: number; done: number; total: number };
  error: { document_id: string; title: string; reason: string } | null;
  sections: Section[];
  late_additions: Section[];
  based_on: string | null;
  bundle_version: number;
  pages: number | null;
  pdf_sha256: string | null;
  built_at: string | null;
  sealed_at: string | null;
  version: number;
  can: { edit: boolean; build: boolean; seal: boolean; download: boolean };
  created_at: string;
  updated_at: string;
}

export interface BundlePage {
  items: Bundle[];
  next_cursor: string | null;
}

export interface Manifest {
  bundle_id: string;
  case_id: string;
  case_reference: string;
  bundle_version: number;
  pdf_sha256: string;
  pages: number;
  numbering: Numbering;
  sealed_at: string | null;
  sources: {
    section: string;
    document_id: string;
    version: number;
    title: string;
    sha256: string;
    first_page: number;
    last_page: number;
    first_label: string;
    last_label: string;
  }[];
}

export interface CreateBundle {
  title: string;
  hearing_date?: string;
  numbering: Numbering;
  sections?: { label: string; title: string; items: ItemRef[] }[];
  based_on?: string;
}

export interface PatchBundle {
  title?: string;
  hearing_date?: string | null;
  numbering?: Numbering;
  sections?: { label: string; title: string; items: ItemRef[] }[];
  late_additions?: { label: string; title: string; items: ItemRef[] }[];
}

export const bundleStateLabels = {
  draft: "bundle.state.draft",
  building: "bundle.state.building",
  built: "bundle.state.built",
  failed: "bundle.state.failed",
  sealed: "bundle.state.sealed",
} as const satisfies Record<BundleState, MessageKey>;

export const numberingLabels = {
  consecutive: "bundle.numbering.consecutive",
  per_section: "bundle.numbering.per_section",
} as const satisfies Record<Numbering, MessageKey>;

/** The section label at a position: A, B, … Z, AA, AB … */
export function sectionLabel(index: number): string {
  let n = index;
  let s = "";
  do {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

/** The ETag of a bundle for If-Match: its version, quoted. */
export function etagOf(b: Bundle): string {
  return `"${b.version}"`;
}
