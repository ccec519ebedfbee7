() => {
  if (window.__qaCiteInit) return;
  window.__qaCiteInit = true;
  // Narrow screens (phones): the settings sidebar would cover the chat, so it starts closed and the
  // question box is the first thing seen. Gradio draws the sidebar after this script may run: retry briefly.
  if (window.matchMedia('(max-width: 768px)').matches) {
    let tries = 0;
    const closeSidebar = () => {
      const sb = document.querySelector('.sidebar');
      if (sb && sb.classList.contains('open')) {
        const t = sb.querySelector('.toggle-button');
        if (t) t.click();
      }
      if ((!sb || sb.classList.contains('open')) && ++tries < 200) setTimeout(closeSidebar, 50);
    };
    closeSidebar();
  }
  // A click on [n] opens that source in place, flashes it and opens the cited paragraph in the viewer.
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.qa-cite') : null;
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const src = document.getElementById((a.getAttribute('href') || '').slice(1));
    if (!src) return;
    src.open = true;
    const quote = src.querySelector('blockquote.qa-para');
    const mark = quote && quote.querySelector('mark');
    if (mark) quote.scrollTop = Math.max(0, mark.offsetTop - 8);
    src.classList.add('qa-flash');
    setTimeout(() => src.classList.remove('qa-flash'), 1500);
    src.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    const doc = src.querySelector('a.qa-open-doc');
    if (doc) doc.click();
  }, true);
}
