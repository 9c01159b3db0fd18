// Numbers, dates and durations in words people read.

const BYTE_UNITS = ["bytes", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB" (decimal units, like Home Assistant). */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "unknown size";
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

/** An ISO date (or seconds since 1970) in the reader's locale, e.g. "20 Nov 2026, 04:00". */
export function formatDate(value) {
  if (value === null || value === undefined || value === "") return "unknown date";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** 75 -> "1 min 15 s". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${secs} s`;
  return `${secs} s`;
}

/** "1 234 entries" style counts with the locale's grouping. */
export function formatCount(count, singular, plural = `${singular}s`) {
  return `${Number(count).toLocaleString()} ${count === 1 ? singular : plural}`;
}

/** Progress of a job in words: "42 % · 1.2 GB of 2.9 GB · 1 min 5 s left". */
export function describeProgress(progress) {
  if (!progress) return "Starting…";
  const parts = [];
  if (progress.percent !== null && progress.percent !== undefined) parts.push(`${progress.percent} %`);
  parts.push(`${formatBytes(progress.done_bytes)} of ${formatBytes(progress.total_bytes)}`);
  if (progress.remaining_s !== null && progress.remaining_s !== undefined) {
    parts.push(`${formatDuration(progress.remaining_s)} left`);
  }
  return parts.join(" · ");
}
