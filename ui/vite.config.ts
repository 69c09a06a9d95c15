import { defineConfig } from "vitest/config";
import { resolve } from "node:path";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

// `vite build` → dist/ (what src-tauri embeds: index.html only, no mock code).
// `vite build --mode mock` → dist-mock/ with mock.html, which installs the
// JS mock backend (src/mock/) through Tauri's mockIPC before the app starts.
export default defineConfig(({ mode }) => ({
  base: "./",
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: mode === "mock" ? "dist-mock" : "dist",
    emptyOutDir: true,
    target: "es2021",
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: resolve(__dirname, "index.html"),
        ...(mode === "mock" ? { mock: resolve(__dirname, "mock.html") } : {}),
      } as Record<string, string>,
    },
  },
  server: { port: 1420, strictPort: true },
  test: { include: ["tests/unit/**/*.test.{ts,tsx}"], environment: "node" },
}));
