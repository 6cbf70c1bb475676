/** A one-line progress bar on a terminal; periodic lines otherwise (CI logs). */
export function progressBar(label: string, write: (s: string) => void, isTty: boolean) {
  let lastLine = 0;
  return {
    update(done: number, total: number, extra = '') {
      const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      if (isTty) {
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${extra}`);
      } else if (Date.now() - lastLine > 2000 || pct === 100) {
        lastLine = Date.now();
        write(`${label} ${pct}% ${extra}\n`);
      }
    },
    done() {
      if (isTty) write('\n');
    },
  };
}
