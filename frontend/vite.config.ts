import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

/**
 * Slow links (issue 14): the stylesheet Vite links in <head> would hold back
 * the first paint until it arrives, so it moves to the end of <body>, after
 * the static shell (which has its own inline rules); Chromium paints what
 * comes before a stylesheet in the body without waiting for it, and the
 * app's script still runs only once the stylesheet is in.
 */
function stylesheetAfterShell(): Plugin {
  return {
    name: "casebridge-stylesheet-after-shell",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html) {
        const links: string[] = [];
        const out = html.replace(/\s*<link rel="stylesheet"[^>]*>/g, (m) => {
          links.push(m.trim());
          return "";
        });
        return out.replace("</body>", `    ${links.join("\n    ")}\n  </body>`);
      },
    },
  };
}

// `npm run dev` serves the app with hot reload and sends API and sign-in
// requests to a running `casebridge dev` (CASEBRIDGE_URL, default
// http://127.0.0.1:8080). `npm run build` writes dist/app, which the Go
// binary embeds (frontend/embed.go).
const backend = process.env["CASEBRIDGE_URL"] ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), stylesheetAfterShell()],
  build: {
    outDir: "dist/app",
    emptyOutDir: true,
    manifest: "manifest.json",
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 450,
  },
  server: {
    // 127.0.0.1 like the Go server: cookies are per host, not per port, so
    // the session from signing in there works here too.
    host: "127.0.0.1",
    proxy: {
      "/api": backend,
      "/auth": backend,
    },
  },
});
