// Package uitest holds the browser tests of the web UI: each starts a real
// server on a loopback port and drives headless Chromium (/usr/bin/chromium)
// through the pages with chromedp. It is a package of its own so that no
// other package of the module compiles chromedp.
package uitest
