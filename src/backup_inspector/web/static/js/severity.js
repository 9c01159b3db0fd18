// How a problem's severity looks: an icon of its own shape and a word, so
// that no one has to tell the tints apart. Notes (severity "info") say what a
// restore will do; they are not problems and get a neutral look.

import { h, icon } from "./dom.js";

const SEVERITY_LOOK = {
  error: { icon: "alertCircle", word: "Error" },
  warning: { icon: "alert", word: "Warning" },
  info: { icon: "info", word: "Note" },
};

/** The icon and the word of a severity (unknown ones look like warnings). */
export function severityLook(severity) {
  return SEVERITY_LOOK[severity] || SEVERITY_LOOK.warning;
}

/** The marks that start a problem line: the icon, and for a note the word "Note". */
export function severityMarks(severity) {
  const look = severityLook(severity);
  const marks = [icon(look.icon, `severity-icon ${severity}`)];
  if (severity === "info") marks.push(h("span", { class: "severity-word", text: look.word }));
  return marks;
}
