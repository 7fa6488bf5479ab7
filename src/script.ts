/**
 * `<script>` entry (dist/outbox.global.js): exposes the browser API as `window.Outbox`.
 */
export { createOutbox, OutboxOptionsError } from './index';
