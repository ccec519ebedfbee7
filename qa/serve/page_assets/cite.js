() => {
  if (window.__qaCiteInit) return;
  window.__qaCiteInit = true;
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
