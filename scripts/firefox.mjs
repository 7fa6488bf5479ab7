// Finds a Firefox for the browser tests: FIREFOX_PATH, then Debian's /usr/bin/firefox-esr. Playwright drives it
// over WebDriver BiDi (its `moz-firefox` channel); Playwright's own patched Firefox cannot be downloaded here.
import { existsSync } from 'node:fs';

const DEBIAN = '/usr/bin/firefox-esr';

/** Returns the path of a usable Firefox; throws with instructions when there is none. */
export function findFirefox() {
  if (process.env.FIREFOX_PATH) {
    if (existsSync(process.env.FIREFOX_PATH)) return process.env.FIREFOX_PATH;
    throw new Error(`FIREFOX_PATH is set to ${process.env.FIREFOX_PATH}, which does not exist`);
  }
  if (existsSync(DEBIAN)) return DEBIAN;
  throw new Error(
    'The Firefox browser tests need Firefox and none was found. Install one and run again:\n' +
      '  Debian/Ubuntu:  sudo apt-get install -y firefox-esr     (then it is found at /usr/bin/firefox-esr)\n' +
      '  or point at any Firefox:  FIREFOX_PATH=/path/to/firefox npm test',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(findFirefox());
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
