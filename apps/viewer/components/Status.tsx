import styles from "./Status.module.css";

const BADGE: Record<string, string | undefined> = {
  queued: styles.queued,
  running: styles.running,
  completed: styles.completed,
  failed: styles.failed,
  canceled: styles.canceled,
};

const FILL: Record<string, string | undefined> = {
  completed: styles.fillCompleted,
  failed: styles.fillFailed,
  canceled: styles.fillCanceled,
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`${styles.badge} ${BADGE[status] ?? ""}`} data-testid="status-badge" data-status={status}>
      {status}
    </span>
  );
}

export function ProgressBar({ progress, status, small = false }: { progress: number; status: string; small?: boolean }) {
  const value = Math.max(0, Math.min(100, Math.round(progress)));
  const active = status === "queued" || status === "running";
  return (
    <div
      className={`${styles.track} ${small ? styles.small : ""} ${active ? styles.active : ""}`}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      data-testid="progress"
    >
      <div className={`${styles.fill} ${FILL[status] ?? ""}`} style={{ width: `${value}%` }} />
    </div>
  );
}
