import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";

import { ApiKeyControl } from "@/components/ApiKeyControl";
import { DocsLink } from "@/components/DocsLink";

import styles from "./layout.module.css";
import "./globals.css";

export const metadata: Metadata = {
  title: "MMF viewer",
  description: "Create 3D generation jobs, follow them live and look at the results.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className={styles.header}>
          <div className={styles.headerInner}>
            <Link href="/" className={styles.brand}>
              <span className={styles.logo} aria-hidden>
                3D
              </span>
              MMF viewer
            </Link>
            <nav className={styles.nav}>
              <Link href="/">New job</Link>
              <Link href="/#jobs">Jobs</Link>
              <DocsLink />
              <ApiKeyControl />
            </nav>
          </div>
        </header>
        <main className={styles.main}>{children}</main>
      </body>
    </html>
  );
}
