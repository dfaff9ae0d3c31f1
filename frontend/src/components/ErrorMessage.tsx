// Shows an API error as a readable message: the problem's detail, the
// field errors, and for an edit conflict (412) what happened and a reload.
import { ApiError } from "../api/client";
import { activeMessages, useI18n } from "../i18n/i18n";

/**
 * A problem's stable code in the user's language (apicode.<code>), else the
 * server's own sentence. Rules (409) also say who can lift them
 * (apicode.<code>.lift).
 */
export function useProblemText() {
  const { label } = useI18n();
  const known = (key: string) => {
    const v = label("apicode", key);
    return v !== key ? v : undefined;
  };
  return {
    text: (code: string | undefined, fallback: string | undefined) => (code && known(code)) || fallback,
    lift: (code: string | undefined) => (code ? known(`${code}.lift`) : undefined),
    field: (name: string) => {
      const v = label("field", name);
      return v !== name ? v : name;
    },
  };
}

export function ErrorMessage({ error, onReload }: { error: unknown; onReload?: () => void }) {
  const { t } = useI18n();
  const pt = useProblemText();
  if (!(error instanceof ApiError)) {
    if (error instanceof DOMException && error.name === "AbortError") return null;
    return (
      <div className="alert" role="alert">
        <p>{t("error.unexpected")}</p>
      </div>
    );
  }
  const p = error.problem;
  if (error.status === 412) {
    return (
      <div className="alert warn" role="alert">
        <h3>{t("error.conflict.title")}</h3>
        <p>{t("error.conflict.body")}</p>
        {onReload && (
          <button type="button" className="btn" onClick={onReload}>
            {t("error.conflict.reload")}
          </button>
        )}
      </div>
    );
  }
  let heading: string;
  switch (error.status) {
    case 0:
      heading = t("error.network");
      break;
    case 403:
      heading = t("error.forbidden");
      break;
    case 409:
      heading = t("error.rule");
      break;
    case 404:
      heading = t("error.notFound");
      break;
    case 413:
      heading = t("error.tooLarge");
      break;
    case 415:
      heading = t("error.unsupported");
      break;
    case 422:
    case 400:
      heading = t("error.invalid");
      break;
    default:
      heading = error.status >= 500 ? t("error.server") : t("error.failed");
  }
  const detail =
    error.status === 403 && p?.missing_permission
      ? t("error.missingPermission", { permission: pt.text(`permission.${p.missing_permission}`, p.missing_permission) ?? "" })
      : error.status === 422 && p?.errors?.length
        ? undefined
        : pt.text(p?.code, p?.detail);
  const lift =
    error.status === 403
      ? (pt.lift(p?.missing_permission ? `permission.${p.missing_permission}` : undefined) ?? pt.lift("forbidden.permission"))
      : pt.lift(p?.code);
  return (
    <div className="alert" role="alert" data-code={p?.code}>
      <h3>{heading}</h3>
      {detail && <p>{detail}</p>}
      {lift && <p className="lift">{lift}</p>}
      {p?.errors && p.errors.length > 0 && (
        <ul>
          {p.errors.map((e) => (
            <li key={e.field}>
              <strong>{pt.field(e.field)}</strong>: {pt.text(e.code, e.message)}
            </li>
          ))}
        </ul>
      )}
      {p?.request_id && <p className="muted">{t("error.requestId", { id: p.request_id })}</p>}
    </div>
  );
}

/** The message for one field of a failed request, if the API named it. */
/** Translated by the error's stable code when the app knows it, else the server's sentence. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const e = error.problem?.errors?.find((x) => x.field === field);
  if (!e) return undefined;
  return (e.code && activeMessages[`apicode.${e.code}`]) || e.message;
}
