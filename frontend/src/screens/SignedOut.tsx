import { useI18n } from "../i18n/i18n";
import { useTitle } from "../app/title";

export function SignedOut() {
  const { t } = useI18n();
  useTitle(t("signedOut.title"));
  return (
    <main id="main">
      <h1>{t("signedOut.title")}</h1>
      <p>{t("signedOut.body")}</p>
      <p>
        <a className="btn" href="/auth/login?return_to=%2F">
          {t("signedOut.signIn")}
        </a>
      </p>
    </main>
  );
}
