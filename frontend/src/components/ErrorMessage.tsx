// Shows an API error as a readable message: the problem's detail, the
// field errors, and for an edit conflict (412) what happened and a reload.
import { ApiError } from "../api/client";
import { useI18n } from "../i18n/i18n";

export function ErrorMessage({ error, onReload }: { error: unknown; onReload?: () => void }) {
  const { t } = useI18n();
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
  return (
    <div className="alert" role="alert">
      <h3>{heading}</h3>
      {p?.detail && <p>{p.detail}</p>}
      {p?.errors && p.errors.length > 0 && (
        <ul>
          {p.errors.map((e) => (
            <li key={e.field}>
              <strong>{e.field}</strong>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {p?.request_id && <p className="muted">{t("error.requestId", { id: p.request_id })}</p>}
    </div>
  );
}

/** The message for one field of a failed request, if the API named it. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}
