import { defineConfig } from 'vite';

// The dashboard is plain static files served by rmm-api (api/routes/static_files.cc) from
// api/web/dist. React's automatic JSX runtime comes from the bundler's own transform, so no
// framework plugin is needed. `npm run dev` proxies the API to RMM_API_URL (a running stack).
export default defineConfig({
  root: 'src',
  base: './',
  publicDir: false,
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    proxy: {
      '/api': { target: process.env.RMM_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
