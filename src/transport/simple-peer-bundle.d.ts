// Types for simple-peer's prebuilt browser bundle: the same class as the package entry.
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer';
  export default SimplePeer;
}
