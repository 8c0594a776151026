// The offline control's words and the offline page, in both languages. The control (offline.js)
// and the service worker (sw.js) both import this: the worker writes the offline page itself,
// in the language of the page that could not be loaded.

const MB = (bytes) => Math.max(1, Math.round(bytes / 1e6));

export const OFFLINE_TEXT = {
  en: {
    checking: "Checking offline copy…",
    unsaved: "Not saved for offline",
    unsavedTitle: (bytes) =>
      `Save this book's English pages, figures and Python${bytes ? ` (about ${MB(bytes)} MB)` : ""} in this browser to read and run them with no network`,
    saving: (percent) => `Saving… ${percent} %`,
    savingTitle: "Saving the book in this browser for reading offline",
    saved: "Available offline",
    savedTitle: "This book's English pages, figures and Python are saved in this browser",
    full: "Not saved: storage is full",
    network: "Saving stopped: network error",
    changed: "Saving stopped: the book was updated",
    failed: "Saving for offline failed",
    retryTitle: "Try saving the book for offline again",
    unsupported: "This browser cannot save the book for offline",
    insecure: "Offline reading needs HTTPS",
    pageTitle: "Offline",
    pageHeading: "You are offline",
    pageBody: "This page is not saved in this browser, so it cannot be shown without a network.",
    pageHome: "Open the saved home page",
  },
  zh: {
    checking: "正在检查离线副本…",
    unsaved: "尚未保存供离线阅读",
    unsavedTitle: (bytes) =>
      `把本书的中文页面、图表和 Python${bytes ? `（约 ${MB(bytes)} MB）` : ""}保存到这个浏览器，没有网络也能阅读和运行`,
    saving: (percent) => `正在保存… ${percent} %`,
    savingTitle: "正在把本书保存到这个浏览器，供离线阅读",
    saved: "可离线阅读",
    savedTitle: "本书的中文页面、图表和 Python 已保存在这个浏览器中",
    full: "未能保存：存储空间已满",
    network: "保存中断：网络出错",
    changed: "保存中断：本书已更新",
    failed: "离线保存失败",
    retryTitle: "重新保存本书供离线阅读",
    unsupported: "这个浏览器无法保存本书供离线阅读",
    insecure: "离线阅读需要 HTTPS",
    pageTitle: "离线",
    pageHeading: "你现在处于离线状态",
    pageBody: "这个页面没有保存在这个浏览器中，没有网络时无法显示。",
    pageHome: "打开已保存的首页",
  },
};

/** The words of a language code ("en", "zh", "zh-CN"); English for any other. */
export function offlineText(lang) {
  return String(lang || "en")
    .toLowerCase()
    .startsWith("zh")
    ? OFFLINE_TEXT.zh
    : OFFLINE_TEXT.en;
}

/** The page a navigation gets when it is neither saved nor reachable: plain, in its language. */
export function offlinePage(lang, homeUrl) {
  const t = offlineText(lang);
  const code = lang === "zh" ? "zh" : "en";
  return `<!doctype html>
<html lang="${code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${t.pageTitle} · gradbook</title>
<style>body{font:1rem/1.6 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}a{color:#3f51b5}@media (prefers-color-scheme:dark){body{background:#1e2129;color:#e2e4e9}a{color:#8c9eff}}</style>
</head><body><main><h1>${t.pageHeading}</h1><p>${t.pageBody}</p><p><a href="${homeUrl}">${t.pageHome}</a></p></main></body></html>
`;
}
