window.__qaDoc = {element: element, props: props, server: server};
if (!window.__qaDocInit) {
  window.__qaDocInit = true;
  const focus = (anchor, tries) => {
    const d = window.__qaDoc;
    const el = d.element.querySelector('p.qa-focus[id="' + anchor + '"]');
    if (!el) { if (tries > 0) setTimeout(() => focus(anchor, tries - 1), 50); return; }
    const body = el.closest('.qa-doc-body');
    const target = el.querySelector('mark') || el;
    if (body) body.scrollTop = Math.max(0, target.offsetTop - body.clientHeight / 3);
    d.element.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  };
  document.addEventListener('click', async (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.qa-open-doc') : null;
    if (!a) return;
    e.preventDefault();
    const ref = (a.getAttribute('href') || '').slice(1);
    const anchor = ref.split('.')[0];
    const d = window.__qaDoc;
    try {
      d.props.value = await d.server.open_paragraph(ref);
    } catch (err) {
      d.props.value = '<div class="qa-doc-view"><div class="qa-doc-empty">文档打开失败，请重试。</div></div>';
      return;
    }
    focus(anchor, 60);
  });
}
