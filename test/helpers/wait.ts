export { waitFor, sleep } from '../harness/net'
