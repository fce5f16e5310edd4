export { ImageModelOip, imagesFromRequest } from './image-model-oip.js';
