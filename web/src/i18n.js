// UI text in the page's language, read from <html lang>.
const TEXT = {
  en: {
    run: "Run",
    stop: "Stop",
    reset: "Reset",
    runTitle: "Run this cell (Shift+Enter)",
    stopTitle: "Stop the running code",
    resetTitle: "Restore the book's code (and forget the saved edit)",
    loading: "Loading Python…",
    queued: "Waiting for earlier cells…",
    running: "Running…",
    done: (s) => `Done in ${s} s`,
    error: "Error",
    stopped: "Stopped",
    stoppedRestarted: "Stopped: Python was restarted, variables are reset",
    cancelled: "Not run",
    restarted: "Python was restarted: run this cell again",
    interrupted: "Interrupted",
    truncated: (kb) => `Output truncated: only the first ${kb} kB are shown.`,
    fatal: (msg) => `Python could not start: ${msg}`,
    chartError: (msg) => `This chart could not be drawn: ${msg}`,
    editorLabel: "Python code",
    outputLabel: "Output",
    share: "Share",
    shareTitle: "Copy a link that opens this page with your version of this cell",
    shareCopied: "Link copied. It opens this page with your version of this cell:",
    shareManual: "Copy this link to open this page with your version of this cell:",
    shareLinkLabel: "Link to your version of this cell",
    edited: "Edited",
    editedTitle: "This cell differs from the book's code; Reset restores the book's code",
    sharedBadge: "Shared",
    sharedTitle: "This cell shows code from a shared link; Reset restores the book's code",
    sharedNotice:
      "This cell shows the code of the link you opened. Your own saved edit of this cell is kept until you run or edit this one.",
    sharedNoticeNoEdit: "This cell shows the code of the link you opened.",
    changed:
      "The book's code of this cell has changed since you edited it, so your edit was not applied.",
    restoreEdit: "Restore my edit",
    discardEdit: "Discard",
    notSaved: "This browser does not keep your edits (storage is off or full).",
    knobsLabel: "Knobs: moving one reruns the cell",
    knobMissing: (name) =>
      `The code has no line "${name} = …" at the top level any more, so the knob cannot change it. Reset restores the book's code.`,
  },
  zh: {
    run: "运行",
    stop: "停止",
    reset: "重置",
    runTitle: "运行这个代码单元（Shift+Enter）",
    stopTitle: "停止正在运行的代码",
    resetTitle: "恢复书中的代码（并忘掉保存的修改）",
    loading: "正在加载 Python…",
    queued: "等待前面的代码单元运行…",
    running: "运行中…",
    done: (s) => `完成，用时 ${s} 秒`,
    error: "出错",
    stopped: "已停止",
    stoppedRestarted: "已停止：Python 已重启，变量已清空",
    cancelled: "未运行",
    restarted: "Python 已重启：请重新运行这个代码单元",
    interrupted: "已中断",
    truncated: (kb) => `输出过长，已截断：只显示前 ${kb} kB。`,
    fatal: (msg) => `Python 无法启动：${msg}`,
    chartError: (msg) => `无法绘制此图表：${msg}`,
    editorLabel: "Python 代码",
    outputLabel: "输出",
    share: "分享",
    shareTitle: "复制一个链接，打开后这个代码单元显示的是你的版本",
    shareCopied: "链接已复制。打开它，这个代码单元显示的就是你的版本：",
    shareManual: "复制下面的链接，打开后这个代码单元显示的就是你的版本：",
    shareLinkLabel: "指向你这一版代码单元的链接",
    edited: "已修改",
    editedTitle: "这个代码单元与书中的代码不同；点“重置”恢复书中的代码",
    sharedBadge: "分享版本",
    sharedTitle: "这个代码单元显示的是分享链接里的代码；点“重置”恢复书中的代码",
    sharedNotice:
      "这个代码单元显示的是你打开的链接里的代码。在你运行或修改它之前，你自己保存的修改不会被覆盖。",
    sharedNoticeNoEdit: "这个代码单元显示的是你打开的链接里的代码。",
    changed: "你修改过这个代码单元，但书中的代码后来更新了，所以没有自动套用你的修改。",
    restoreEdit: "恢复我的修改",
    discardEdit: "丢弃",
    notSaved: "这个浏览器没有保存你的修改（本地存储已关闭或已满）。",
    knobsLabel: "可调参数：改动任何一项都会重新运行这个代码单元",
    knobMissing: (name) =>
      `代码顶层已经没有“${name} = …”这一行，调节参数无法修改它。点“重置”可恢复书中的代码。`,
  },
};

export function pageLanguage() {
  const lang = (document.documentElement.lang || "en").toLowerCase();
  return lang.startsWith("zh") ? "zh" : "en";
}

export function texts(lang = pageLanguage()) {
  return TEXT[lang] || TEXT.en;
}
