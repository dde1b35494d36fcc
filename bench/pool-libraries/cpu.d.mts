export declare function burn(iterations: number): number;
export default burn;
