"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";

import { api, type ApiError, type JobPublic, TERMINAL } from "@/lib/api";
import { formatAge, formatDuration, humanize, kindLabel, requestSummary } from "@/lib/format";

import styles from "./JobList.module.css";
import { ProgressBar, StatusBadge } from "./Status";

const PAGE = 20;
const MAX_LIMIT = 100;
const ACTIVE_REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 10_000;

function doneIn(job: JobPublic): string {
  const start = Date.parse(job.created_at);
  const end = Date.parse(job.completed_at ?? job.updated_at);
  return Number.isNaN(start) || Number.isNaN(end) ? "Done" : `Done in ${formatDuration(Math.max(0, end - start) / 1000)}`;
}

/** The most recent jobs, refreshed every 2 s while any is active (10 s otherwise) and on tab focus. */
export function JobList() {
  const [jobs, setJobs] = useState<JobPublic[] | null>(null);
  const [more, setMore] = useState(false);
  const [limit, setLimit] = useState(PAGE);
  const [problem, setProblem] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const refresh = useCallback(async () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    let active = false;
    try {
      const page = await api.listJobs(limit);
      setJobs(page.items);
      setMore(page.next_offset !== null);
      setProblem(null);
      setNow(Date.now());
      active = page.items.some((job) => !TERMINAL.has(job.status));
    } catch (err) {
      setProblem((err as ApiError).message);
    }
    timer.current = setTimeout(() => void refresh(), active ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS);
  }, [limit]);

  useEffect(() => {
    void refresh();
    const onVisible = () => document.visibilityState === "visible" && void refresh();
    document.addEventListener("visibilitychange", onVisible);
    const clock = setInterval(() => setNow(Date.now()), 5000);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      clearInterval(clock);
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [refresh]);

  return (
    <section className="card" id="jobs" data-testid="job-list">
      <div className={styles.head}>
        <h2>Recent jobs</h2>
        <button type="button" className="button" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      {problem && (
        <p className={styles.problem} role="alert">
          Could not load jobs: {problem}
        </p>
      )}
      {jobs === null && !problem && <p className="muted">Loading…</p>}
      {jobs?.length === 0 && <p className="muted">No jobs yet: create one above.</p>}
      {jobs && jobs.length > 0 && (
        <table className={styles.table}>
          <thead>
            <tr>
              <th>Status</th>
              <th>Kind</th>
              <th>Request</th>
              <th>Progress</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => {
              const active = !TERMINAL.has(job.status);
              return (
                <tr key={job.job_id} data-testid="job-row" data-job-id={job.job_id} data-status={job.status}>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td className={styles.kind}>{kindLabel(job.kind)}</td>
                  <td className={styles.request}>
                    <Link href={`/job/?id=${encodeURIComponent(job.job_id)}`}>
                      {requestSummary(job.request) || job.job_id}
                    </Link>
                    <span className={`${styles.id} mono`}>{job.job_id.slice(0, 12)}</span>
                  </td>
                  <td className={styles.stage}>
                    {active ? (
                      <>
                        <span>
                          {humanize(job.stage) || "Waiting"} · {job.progress}%
                        </span>
                        <ProgressBar progress={job.progress} status={job.status} small />
                      </>
                    ) : job.status === "failed" ? (
                      <span className={styles.failed}>{job.error?.message ?? "failed"}</span>
                    ) : job.status === "completed" ? (
                      <span className="muted">{doneIn(job)}</span>
                    ) : (
                      <span className="muted">{job.message || humanize(job.status)}</span>
                    )}
                  </td>
                  <td className={styles.age} title={job.created_at}>
                    {formatAge(job.created_at, now)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {more && limit < MAX_LIMIT && (
        <div className={styles.more}>
          <button type="button" className="button" onClick={() => setLimit((l) => Math.min(MAX_LIMIT, l + PAGE))}>
            Show more
          </button>
        </div>
      )}
    </section>
  );
}
