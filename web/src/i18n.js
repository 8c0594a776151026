// UI text in the page's language, read from <html lang>.
const TEXT = {
  en: {
    run: "Run",
    stop: "Stop",
    reset: "Reset",
    runTitle: "Run this cell (Shift+Enter)",
    stopTitle: "Stop the running code",
    resetTitle: "Restore the original code",
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
  },
  zh: {
    run: "运行",
    stop: "停止",
    reset: "重置",
    runTitle: "运行此单元（Shift+Enter）",
    stopTitle: "停止正在运行的代码",
    resetTitle: "恢复原始代码",
    loading: "正在加载 Python…",
    queued: "等待前面的单元运行…",
    running: "运行中…",
    done: (s) => `完成，用时 ${s} 秒`,
    error: "出错",
    stopped: "已停止",
    stoppedRestarted: "已停止：Python 已重启，变量已清空",
    cancelled: "未运行",
    restarted: "Python 已重启：请重新运行此单元",
    interrupted: "已中断",
    truncated: (kb) => `输出过长，已截断：只显示前 ${kb} kB。`,
    fatal: (msg) => `Python 无法启动：${msg}`,
    chartError: (msg) => `无法绘制此图表：${msg}`,
    editorLabel: "Python 代码",
    outputLabel: "输出",
  },
};

export function pageLanguage() {
  const lang = (document.documentElement.lang || "en").toLowerCase();
  return lang.startsWith("zh") ? "zh" : "en";
}

export function texts(lang = pageLanguage()) {
  return TEXT[lang] || TEXT.en;
}
