// Asks before a destructive action, saying what will happen. Focus moves to
// the box; Cancel is the safe default the Escape key picks.
import { useEffect, useId, useRef } from "react";
import { useI18n } from "../i18n/i18n";

export function ConfirmBox({
  title,
  body,
  confirm,
  busy,
  onConfirm,
  onCancel,
}: {
  title: string;
  body: string;
  confirm: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => cancelRef.current?.focus(), []);
  return (
    <div
      className="alert warn confirm"
      role="alertdialog"
      aria-labelledby={`${id}-t`}
      aria-describedby={`${id}-b`}
      onKeyDown={(e) => e.key === "Escape" && onCancel()}
    >
      <h3 id={`${id}-t`}>{title}</h3>
      <p id={`${id}-b`}>{body}</p>
      <div className="btn-row">
        <button type="button" className="btn danger" disabled={busy} onClick={onConfirm}>
          {confirm}
        </button>
        <button type="button" className="btn secondary" ref={cancelRef} onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </div>
  );
}
