// Keyset paging: the cursor lives in the URL (?cursor=), so a page can be
// bookmarked and the browser's Back goes to the previous page.
import { useSearchParams } from "react-router";
import { useI18n } from "../i18n/i18n";

export function Pager({ nextCursor }: { nextCursor: string | null | undefined }) {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const onFirst = !params.get("cursor");
  if (onFirst && !nextCursor) return null;
  const go = (cursor: string | null) => {
    const next = new URLSearchParams(params);
    if (cursor) next.set("cursor", cursor);
    else next.delete("cursor");
    setParams(next);
  };
  return (
    <nav className="pager" aria-label={t("pager.label")}>
      {!onFirst && (
        <button type="button" className="btn secondary" onClick={() => go(null)}>
          {t("pager.first")}
        </button>
      )}
      {nextCursor && (
        <button type="button" className="btn secondary" onClick={() => go(nextCursor)}>
          {t("pager.next")}
        </button>
      )}
    </nav>
  );
}
