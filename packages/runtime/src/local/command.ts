/** Moved to shared/ (the docker provider runs host commands too); kept so local imports stay short. */
export * from '../shared/command';
