// Persons: types and labels derived from the generated schema.
import type { components } from "../api/schema";
import type { ResponseOf } from "../api/types";
import type { MessageKey } from "../i18n/i18n";
import { countries } from "../i18n/countries";
import { intlSupports, useI18n } from "../i18n/i18n";

/** GET /persons/{id} answers the full Person or, to an embassy, the consular projection. */
export type PersonView = ResponseOf<"/api/v1/persons/{id}", "get">;
export type Person = components["schemas"]["Person"];
export type CasePerson = ResponseOf<"/api/v1/cases/{id}/persons", "get">["items"][number];
export type Sex = Person["sex"];
export type LinkRole = CasePerson["role"];
export type CustodyStatus = Person["custody_status"];
export type TraffickingFlag = Person["trafficking_flag"];
export type ConsularNotification = Person["consular_notification"];
export type PassportStatus = Person["passport_status"];
export type WorkPermitStatus = Person["work_permit_status"];

export const passportStatusLabels = {
  valid: "enum.passport.valid",
  expired: "enum.passport.expired",
  invalid: "enum.passport.invalid",
  none: "enum.passport.none",
  unknown: "enum.passport.unknown",
} as const satisfies Record<PassportStatus, MessageKey>;

export const workPermitLabels = {
  valid: "enum.workPermit.valid",
  expired: "enum.workPermit.expired",
  none: "enum.workPermit.none",
  unknown: "enum.workPermit.unknown",
} as const satisfies Record<WorkPermitStatus, MessageKey>;

export type PersonSummary = components["schemas"]["PersonSummary"];

/** The full projection, or null for the summary or consular one. */
export function asFullPerson(p: PersonView): Person | null {
  return "trafficking_flag" in p ? p : null;
}

/** The summary projection (a summary grant: names, sex, nationality, custody, role), or null. */
export function asSummaryPerson(p: PersonView | CasePerson["person"]): PersonSummary | null {
  return !("trafficking_flag" in p) && !("charges" in p) ? (p as PersonSummary) : null;
}

/** What the consular projection says in place of a shelter's name (ACCESS.md). */
export const inCareOfAuthorities = "in the care of the authorities";

/** A facility as shown: the consular wording for a shelter is translated. */
export function useFacilityLabel() {
  const { t } = useI18n();
  return (facility: string | null | undefined) =>
    !facility ? "—" : facility === inCareOfAuthorities ? t("person.facility.inCare") : facility;
}

export const sexLabels = {
  female: "enum.sex.female",
  male: "enum.sex.male",
  other: "enum.sex.other",
  unknown: "enum.sex.unknown",
} as const satisfies Record<Sex, MessageKey>;

export const custodyLabels = {
  at_large: "enum.custody.at_large",
  detained: "enum.custody.detained",
  charged: "enum.custody.charged",
  convicted: "enum.custody.convicted",
  awaiting_deportation: "enum.custody.awaiting_deportation",
  deported: "enum.custody.deported",
  released: "enum.custody.released",
} as const satisfies Record<CustodyStatus, MessageKey>;

export const traffickingLabels = {
  none: "enum.trafficking.none",
  suspected: "enum.trafficking.suspected",
  identified: "enum.trafficking.identified",
  cleared: "enum.trafficking.cleared",
} as const satisfies Record<TraffickingFlag, MessageKey>;

export const notificationLabels = {
  requested: "enum.notification.requested",
  declined: "enum.notification.declined",
  mandatory: "enum.notification.mandatory",
} as const satisfies Record<ConsularNotification, MessageKey>;

export const linkRoleLabels = {
  detainee: "enum.linkRole.detainee",
  suspect: "enum.linkRole.suspect",
  witness: "enum.linkRole.witness",
  victim: "enum.linkRole.victim",
  other: "enum.linkRole.other",
} as const satisfies Record<LinkRole, MessageKey>;

/** A person's full name, family name first as on the case file. */
export function fullName(p: { family_name: string; given_names?: string | null }): string {
  return [p.family_name, p.given_names ?? ""].join(" ").trim();
}

/**
 * Country names in the user's language, from ISO 3166-1 alpha-2 codes: the
 * browser's Intl where it has the locale's data, else the translations
 * (country.XX) for the countries the portal sees most, else the code.
 */
export function useCountryName(): (code: string | null | undefined) => string {
  const { locale, label } = useI18n();
  const tag = locale === "km" ? "km-KH" : "en-GB";
  let names: Intl.DisplayNames | null = null;
  try {
    names = intlSupports(tag) ? new Intl.DisplayNames([tag], { type: "region" }) : null;
  } catch {
    names = null;
  }
  return (code) => {
    if (!code) return "—";
    const translated = label("country", code);
    if (translated !== code) return translated;
    const row = countries.find((r) => r[0] === code);
    if (row) return locale === "km" ? row[2] : row[1];
    try {
      return names?.of(code) ?? code;
    } catch {
      return code;
    }
  };
}


