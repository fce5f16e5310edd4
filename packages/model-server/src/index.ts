export { ImageModelOip, imagesFromRequest, serveImageModel } from './image-model-oip.js';
