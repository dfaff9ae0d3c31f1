// Court bundles: the types of the bundle routes, all from the generated
// schema (src/api/schema.d.ts), and their labels.
import type { components } from "../api/schema";
import type { MessageKey } from "../i18n/i18n";

type S = components["schemas"];

export type Bundle = S["Bundle"];
export type BundleState = Bundle["state"];
export type Numbering = S["BundleNumbering"];
/** An item as the API returns it: the document version, what it is, and where it sits in the built PDF. */
export type Item = S["BundleItem"];
export type ItemRef = S["BundleItemRef"];
export type Section = S["BundleSection"];
export type BundlePage = S["BundleList"];
export type Manifest = S["BundleManifest"];
export type CreateBundle = S["BundleCreate"];
export type PatchBundle = S["BundlePatch"];

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
