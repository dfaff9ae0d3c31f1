// Choose one person of a case by typing part of a name: an ARIA 1.2
// combobox over the server's search of the case's persons (GET
// /cases/{id}/persons?q=), so a case of 225 persons is never a 225-entry
// list. Empty means "no person" (the whole case). The chosen id goes into a
// hidden input named `name` for forms read with FormData.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type KeyboardEvent } from "react";
import { api, unwrap } from "../api/client";
import { useI18n } from "../i18n/i18n";
import { fullName } from "../screens/personTypes";

export function CasePersonPicker({
  caseId,
  label,
  name,
  hint,
  error,
  onChange,
}: {
  caseId: string;
  label: string;
  name?: string;
  hint?: string;
  error?: string | undefined;
  onChange?: (id: string) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [chosen, setChosen] = useState<{ id: string; name: string } | null>(null);
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  // Ask the server a moment after typing stops, not on every key.
  useEffect(() => {
    const h = window.setTimeout(() => setQ(text.trim()), 250);
    return () => window.clearTimeout(h);
  }, [text]);
  const results = useQuery({
    queryKey: ["case", caseId, "persons", "pick", q],
    enabled: open && q.length > 0,
    queryFn: () =>
      unwrap(api.GET("/api/v1/cases/{id}/persons", { params: { path: { id: caseId }, query: { q, limit: 10 } } })),
  });
  const options = (results.data?.items ?? []).map((l) => ({ id: l.person.id, name: fullName(l.person) }));
  const choose = (o: { id: string; name: string } | null) => {
    setChosen(o);
    setText("");
    setOpen(false);
    onChange?.(o?.id ?? "");
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, Math.max(options.length - 1, 0)));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter" && open && options[active]) {
      e.preventDefault();
      choose(options[active]);
    } else if (e.key === "Escape") {
      setOpen(false);
    }
  };
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const statusId = `${id}-status`;
  const describedBy = [hint ? hintId : "", error ? errId : "", statusId].filter(Boolean).join(" ");
  const status = !open || q === "" ? "" : results.isFetching ? t("common.loading") : options.length === 0 ? t("pick.none") : t("pick.found", { n: options.length });
  return (
    <div className={error ? "field invalid combobox" : "field combobox"}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={errId}>
          {error}
        </span>
      )}
      {chosen ? (
        <div className="chosen">
          <span data-testid="picked-person">{chosen.name}</span>
          <button type="button" className="btn secondary" onClick={() => choose(null)}>
            {t("pick.clear")}
            <span className="visually-hidden">: {chosen.name}</span>
          </button>
        </div>
      ) : (
        <input
          id={id}
          type="text"
          role="combobox"
          aria-expanded={open && options.length > 0}
          aria-controls={open && options.length > 0 ? listId : undefined}
          aria-autocomplete="list"
          aria-activedescendant={open && options[active] ? `${id}-o-${options[active].id}` : undefined}
          aria-describedby={describedBy}
          aria-invalid={error ? true : undefined}
          autoComplete="off"
          value={text}
          placeholder={t("pick.placeholder")}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
            setActive(0);
          }}
          onBlur={() => window.setTimeout(() => setOpen(false), 150)}
          onKeyDown={onKey}
        />
      )}
      <span id={statusId} className="visually-hidden" aria-live="polite">
        {status}
      </span>
      {name && <input type="hidden" name={name} value={chosen?.id ?? ""} />}
      {!chosen && open && options.length > 0 && (
        <ul id={listId} role="listbox" aria-label={label} className="combobox-list">
          {options.map((o, i) => (
            <li
              key={o.id}
              id={`${id}-o-${o.id}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(o);
              }}
            >
              {o.name}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
