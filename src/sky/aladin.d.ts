declare module 'aladin-lite' {
  // Aladin Lite ships no type declarations: the few calls the sky view makes are typed there
  const A: any;
  export default A;
}
