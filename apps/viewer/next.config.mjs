/**
 * A static export served by the API at /viewer/ (apps/api/viewer.py). No server-side rendering,
 * no dynamic routes: the job page is /viewer/job/?id=<job_id>.
 *
 * @type {import("next").NextConfig}
 */
const nextConfig = {
  output: "export",
  basePath: "/viewer",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
