/** See source-stamp.js. */
export declare function sourceStamp(dir: string): string;
