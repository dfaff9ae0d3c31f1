// Agency names in the user's language: in Khmer, an agency's Khmer name
// (agencies.name_km, entered by admins) where it has one, else its name.
// The directory (GET /agencies, any signed-in user) is read once and kept.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useI18n } from "../i18n/i18n";

export function useAgencies() {
  return useQuery({
    queryKey: ["agencies"],
    staleTime: 10 * 60 * 1000,
    queryFn: () => unwrap(api.GET("/api/v1/agencies")),
  });
}

/** (agency) → its name in the current language. */
export function useAgencyName() {
  const { locale } = useI18n();
  const q = useAgencies();
  return (a: { id: string; name: string } | null | undefined): string => {
    if (!a) return "";
    if (locale !== "km") return a.name;
    const km = q.data?.items.find((x) => x.id === a.id)?.name_km;
    return km || a.name;
  };
}
