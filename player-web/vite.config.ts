/// <reference types="vitest/config" />
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

/** Writes NAME.gz beside each script and stylesheet: mediad serves it to browsers that
 * accept gzip, without compressing on every request. */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "mediad-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg)$/.test(name)) continue;
        const path = join(outDir, name);
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
      }
    },
  };
}

// Built into the Python package, which serves it at / (a wheel needs no Node).
// esbuild compiles the JSX (no React plugin: nothing here needs Fast Refresh in a build).
export default defineConfig({
  base: "/",
  envPrefix: ["VITE_", "NEXT_PUBLIC_"],
  esbuild: { jsx: "automatic" },
  plugins: [precompress()],
  build: {
    outDir: "../mediad/static",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/hls": "http://127.0.0.1:8080",
      "/whep": "http://127.0.0.1:8080",
      "/whip": "http://127.0.0.1:8080",
      "/ws": { target: "ws://127.0.0.1:8080", ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
