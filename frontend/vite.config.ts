import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the app with hot reload and sends API and sign-in
// requests to a running `casebridge dev` (CASEBRIDGE_URL, default
// http://127.0.0.1:8080). `npm run build` writes dist/app, which the Go
// binary embeds (frontend/embed.go).
const backend = process.env["CASEBRIDGE_URL"] ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
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
