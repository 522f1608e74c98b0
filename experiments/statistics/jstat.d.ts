/** Types for jstat (untyped): only the noncentral t CDF, used by power.ts. */
declare module 'jstat' {
  const jstat: {
    jStat: {
      noncentralt: {
        /** P(T <= x) for a noncentral t with `dof` degrees of freedom and noncentrality `ncp`. */
        cdf(x: number, dof: number, ncp: number): number;
      };
    };
  };
  export default jstat;
}
