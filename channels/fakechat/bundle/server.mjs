import { createRequire as __ocRequire } from 'node:module'; const require = __ocRequire(import.meta.url);
