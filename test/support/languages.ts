/** The languages besides en-US that Node-RED's editor and core nodes ship, and so do we. */
export const LANGUAGES = ["de", "es-ES", "fr", "ja", "ko", "pt-BR", "ru", "zh-CN", "zh-TW"];
