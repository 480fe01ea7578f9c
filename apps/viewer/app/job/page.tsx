"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { JobView } from "@/components/JobView";

function JobFromQuery() {
  const jobId = useSearchParams().get("id");
  if (!jobId) {
    return (
      <div className="card">
        <h2>No job selected</h2>
        <p>
          This page shows one job: <code>/viewer/job/?id=&lt;job_id&gt;</code>. <Link href="/">Pick one from the list.</Link>
        </p>
      </div>
    );
  }
  // A new key per id: switching jobs starts from a clean state.
  return <JobView key={jobId} jobId={jobId} />;
}

export default function JobPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <JobFromQuery />
    </Suspense>
  );
}
