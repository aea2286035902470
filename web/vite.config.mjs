// The dashboard is built into web/dist, which firebase.json's Hosting serves (and deploys).
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
