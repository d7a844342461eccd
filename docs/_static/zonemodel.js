// Headings clear the navbar after a jump to an anchor, whatever the navbar's
// real height (it may wrap on narrow windows): keep scroll-padding-top at the
// header's height plus a margin, and re-do the jump of an address with a #hash
// once the padding is known.
(() => {
  const pad = () => {
    const header = document.querySelector(".bd-header");
    if (header) {
      const height = Math.ceil(header.getBoundingClientRect().height);
      document.documentElement.style.scrollPaddingTop = `${height + 16}px`;
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    pad();
    const header = document.querySelector(".bd-header");
    if (header && "ResizeObserver" in window) new ResizeObserver(pad).observe(header);
    if (location.hash.length > 1) {
      const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
  });
})();
