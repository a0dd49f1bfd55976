/**
 * Pieces the sidebar sections share: the small icon button of a list entry, the section body
 * (toolbar, error, empty state) and the section widget that redraws when its model changes.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button, closeIcon, LabIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import React from 'react';

/** A minimal button showing only an icon; `label` names it for screen readers. */
export function IconButton(props: {
  label: string;
  title: string;
  icon: LabIcon;
  onClick: () => void;
  expanded?: boolean;
}): JSX.Element {
  return (
    <button
      className="jp-Button jp-mod-minimal jp-EsapIconButton"
      aria-expanded={props.expanded}
      aria-label={props.label}
      title={props.title}
      onClick={props.onClick}
    >
      <props.icon.react tag="span" />
    </button>
  );
}

/** An entry's last button: cancel it while it runs, remove it from the list once it ended. */
export function CancelOrRemoveButton(props: {
  final: boolean;
  name: string;
  cancelTitle: string;
  removeTitle: string;
  onCancel: () => void;
  onRemove: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const t = props.trans;
  return props.final ? (
    <IconButton
      icon={closeIcon}
      label={t.__('Remove %1 from the list', props.name)}
      title={props.removeTitle}
      onClick={props.onRemove}
    />
  ) : (
    <IconButton
      icon={stopIcon}
      label={t.__('Cancel %1', props.name)}
      title={props.cancelTitle}
      onClick={props.onCancel}
    />
  );
}

/** The toolbar button that reads a section's list again. */
export function RefreshButton(props: { label: string; title: string; onClick: () => void }): JSX.Element {
  return (
    <Button minimal small aria-label={props.label} title={props.title} onClick={props.onClick}>
      <refreshIcon.react tag="span" />
    </Button>
  );
}

/** An error message read out when it appears (nothing when `message` is empty). */
export function ErrorAlert(props: { message: string }): JSX.Element | null {
  return props.message ? (
    <div className="jp-EsapSection-error" role="alert">
      {props.message}
    </div>
  ) : null;
}

/**
 * The body of a sidebar section: a toolbar, the model's last error, `emptyHint` once the model
 * was read and there is nothing to show (`empty`), then the section's own content.
 */
export function SectionBody(props: {
  className: string;
  toolbarLabel: string;
  tools: React.ReactNode;
  model: { readonly error: string; readonly loaded: boolean };
  empty: boolean;
  emptyHint: string;
  children?: React.ReactNode;
}): JSX.Element {
  const { model } = props;
  return (
    <div className={`jp-EsapSection-body ${props.className}`}>
      <div className="jp-EsapSection-actions jp-EsapSection-toolbar" role="toolbar" aria-label={props.toolbarLabel}>
        {props.tools}
      </div>
      <ErrorAlert message={model.error} />
      {model.loaded && props.empty && <div className="jp-EsapSection-hint">{props.emptyHint}</div>}
      {props.children}
    </div>
  );
}

/** What a section widget draws from: a model that says when it changed. */
export interface ISectionModel {
  readonly changed: ISignal<any, void>;
}

/** The props of a section's React body. */
export interface ISectionProps<M, A> {
  model: M;
  actions: A;
  trans: TranslationBundle;
}

/** A section of the ESAP sidebar that redraws its body whenever the model changes. */
export class SectionWidget<M extends ISectionModel, A> extends ReactWidget {
  constructor(options: {
    id: string;
    className: string;
    label: string;
    caption: string;
    body: (props: ISectionProps<M, A>) => JSX.Element;
    model: M;
    actions: A;
    trans: TranslationBundle;
  }) {
    super();
    this.id = options.id;
    this.addClass('jp-EsapSection');
    this.addClass(options.className);
    this.title.label = options.label;
    this.title.caption = options.caption;
    this._body = options.body;
    this._props = { model: options.model, actions: options.actions, trans: options.trans };
  }

  render(): JSX.Element {
    const Body = this._body;
    return <UseSignal signal={this._props.model.changed}>{() => <Body {...this._props} />}</UseSignal>;
  }

  private _body: (props: ISectionProps<M, A>) => JSX.Element;
  private _props: ISectionProps<M, A>;
}
